# The service's image: built here, run as a non-root user, data on a volume.
#
#   docker build -t support-bridge .
#   docker run -p 5000:5000 -v support-data:/data --env-file .env support-bridge
#
# Stages: "build" installs everything and runs `npm run build` (Prisma
# client, next build, server compile); "deps" installs only the production
# dependencies; "runtime" takes the built output and those dependencies and
# nothing else (no sources, no compilers, no dev tools). The container runs
# `node build/server/main.js` itself: `npm start` would check whether the
# build is fresh and build on the production host, which an image must never
# do. tests/ops/image-runtime.sh runs the same steps outside Docker.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS base
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
# better-sqlite3 compiles from source when no prebuilt binary fits (npm 11
# blocks install scripts unless package.json's allowScripts lists them).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

FROM base AS build
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM base AS deps
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
# postinstall regenerates the Prisma client (unused at run time: the
# compiled copy is in build/server/db/generated).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    SERVER_HOST=0.0.0.0 \
    SERVER_PORT=5000 \
    DATABASE_URL=file:/data/db/support_bot.db \
    UPLOAD_DIR=/data/uploads
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/build ./build
COPY --from=build /app/.next ./.next
COPY package.json package-lock.json next.config.mjs prisma.config.ts ./
COPY prisma ./prisma
# The database (SQLite file, WAL) and the uploads live on the volume; the
# image itself stays read-only for the service's user.
RUN mkdir -p /data/db /data/uploads && chown -R node:node /data
USER node
VOLUME ["/data"]
EXPOSE 5000
# No curl in slim images: Node asks /ready (the database answers) itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SERVER_PORT||5000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "build/server/main.js"]
