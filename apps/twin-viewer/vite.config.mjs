// Vite build of the twin viewer (served by the gateway at `/`, contract §7).
// `npm run build` and `prepare` run `vite build --config apps/twin-viewer/vite.config.mjs`
// from the repository root; the output goes to dist/twin-viewer.
//
// Dev: `npx vite --config apps/twin-viewer/vite.config.mjs` serves the sources
// and proxies /api (HTTP and the live WebSocket) to a running gateway
// (GATEWAY_URL, default http://127.0.0.1:3000).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: here('.'),
  // Relative asset URLs: the viewer works wherever the gateway mounts it.
  base: './',
  resolve: {
    // The viewer imports types from the libs, and a few pure values (the
    // alarm thresholds of contract §6, worstStatus); the aliases resolve them
    // to the sources, and tree-shaking keeps only what is used.
    alias: {
      '@park/metrics': here('../../libs/metrics/src/index.ts'),
      '@park/telemetry': here('../../libs/telemetry/src/index.ts'),
    },
  },
  build: {
    outDir: here('../../dist/twin-viewer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // three.js alone is ~600 kB minified; one chunk is what the gateway serves best.
    chunkSizeWarningLimit: 1000,
    // Two pages: the twin, and the printable monthly report (contract §8).
    rollupOptions: { input: { index: here('index.html'), report: here('report.html') } },
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: gateway, ws: true, changeOrigin: true } },
  },
});
