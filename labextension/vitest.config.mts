import { defineConfig } from 'vitest/config';

// Unit tests of the panel's pure logic: format.ts, request.ts/api.ts and the views' helpers.
// They run in Node (fetch, Request and Response are global there); the panel itself is tested
// in a real JupyterLab by tests/browser/.
export default defineConfig({
  test: {
    include: ['src/__tests__/**/*.spec.ts?(x)'],
    environment: 'node'
  }
});
