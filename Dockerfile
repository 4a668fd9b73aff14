# syntax=docker/dockerfile:1
# Build: compile TypeScript with the full dependency set.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# npm ci builds the dashboard (postinstall) from these sources.
COPY scripts/dashboard-build.mjs ./scripts/
COPY dashboard ./dashboard
RUN npm ci --no-audit --no-fund && test -f dashboard/dist/index.html
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY channels ./channels
COPY rag ./rag
COPY workers ./workers
COPY scripts ./scripts
RUN npm run build

# Runtime: production dependencies and compiled code only, as the unprivileged `node` user.
FROM node:24-bookworm-slim AS runtime
# As `npm start` runs it: one malloc arena (start-up garbage of background threads is reused instead
# of staying resident) and a small young generation keep the idle process lean.
ENV NODE_ENV=production DATA_DIR=/data PORT=3000 MALLOC_ARENA_MAX=1
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Its postinstall finds no dashboard sources here and builds nothing: the build stage's output is copied.
COPY scripts/dashboard-build.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Where the compiled routes look for it, as dist/dashboard links to dashboard/ outside the image.
COPY --from=build /app/dashboard/dist ./dist/dashboard/dist
COPY migrations ./dist/migrations
# The compiled seed looks for the demo guide beside dist/src, as the sources do beside src.
COPY examples ./dist/examples
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "--max-semi-space-size=4", "dist/src/main.js"]
