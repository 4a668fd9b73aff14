import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by the platform at /app (src/http/routes/dashboard.routes.ts), which caches assets/ for a
// year: Vite names each file by its content's hash.
export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Every browser the dashboard supports preloads modules itself; the polyfill would only add bytes.
    modulePreload: { polyfill: false },
    // The server compresses nothing on the fly: scripts/dashboard-build.mjs writes .br/.gz copies.
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1000,
  },
});
