import './base.css';
import './live.css';
import './pipelines.css';
import './monitoring.css';
import './detail.css';
import './grid.css';
import './charts.css';
import './models.css';
