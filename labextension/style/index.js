import './base.css';
import './pipelines.css';
import './monitoring.css';
