// Next.js hosts only the Mini App pages; the custom server (server/main.ts)
// answers every API itself, so this config is about a small, offline,
// reproducible client build.

// Telemetry would try to reach the network on every build; the scripts set
// this too, this line covers a bare `npx next build`.
process.env.NEXT_TELEMETRY_DISABLED ??= "1";

/** @type {import("next").NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Source maps for the browser would only add to what Telegram's webview caches.
  productionBrowserSourceMaps: false,
  // Native or heavy server-only modules: never let Next try to bundle them if
  // a server file reaches them through an import chain.
  serverExternalPackages: ["better-sqlite3", "@prisma/client", "@prisma/adapter-better-sqlite3", "firebase-admin", "grammy", "pino", "socket.io"],
  // Nothing may be fetched at build time (offline machines, reproducible CI):
  // no remote images, no Google fonts.
  images: { unoptimized: true },
  // `npm run dev` and the e2e tests open the app on 127.0.0.1; Next 16 blocks
  // its dev resources (HMR, chunks) for origins it does not know.
  allowedDevOrigins: ["127.0.0.1", "localhost"],
  // One small stylesheet (~2 KB gzip) goes into the HTML as <style>: no
  // request before first paint, and the inline boot script in <head> no
  // longer waits for a <link rel=stylesheet> to load before it can start
  // the notes request (scripts after a pending stylesheet are blocked).
  experimental: { inlineCss: true },
  // The floating dev badge would sit on top of our bottom action bar.
  devIndicators: false,
};

export default nextConfig;
