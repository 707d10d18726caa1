import { LabIcon } from '@jupyterlab/ui-components';

/** The panel's icon: a small stacked-runs glyph drawn with the theme's icon colour. */
export const mlopsIcon = new LabIcon({
  name: 'jupyter-mlops:icon',
  svgstr: `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <rect x="3" y="3" width="18" height="4" rx="1"/>
    <rect x="3" y="10" width="12" height="4" rx="1"/>
    <rect x="3" y="17" width="15" height="4" rx="1"/>
    <circle cx="19.5" cy="12" r="2.5"/>
  </g>
</svg>`
});
