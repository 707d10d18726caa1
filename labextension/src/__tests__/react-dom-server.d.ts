// react-dom ships no types and the panel needs none; the grid's markup tests need this one.
declare module 'react-dom/server' {
  import type { ReactElement } from 'react';
  export function renderToStaticMarkup(element: ReactElement): string;
}
