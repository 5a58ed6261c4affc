# syntax=docker/dockerfile:1

# Two images from one build:
#   docker build -t rusty-counter .                                   the official Azure Functions host
#   docker build --target standalone -t rusty-counter:standalone .    the project's offline host, no .NET
# Both serve the API on port 8000 and keep the counter in /app/local_dir (mount it).

# Node 22 LTS in every stage. The build runs on Debian 12 (bookworm), the release under
# mcr.microsoft.com/azure-functions/node:4-node22 (built on dotnet/aspnet:8.0-bookworm-slim), so
# whatever npm ci puts into node_modules runs in both final images. Nothing is compiled: the lock's
# addon (fs-native-extensions) ships Node-API binaries that load on any Node major.
FROM node:22-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY host/package.json ./host/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json host.json ./
COPY functions ./functions
COPY shared ./shared
COPY host ./host
COPY public ./public
RUN npm run build && npm prune --omit=dev --no-audit --no-fund


# The offline host on a slim Node image: no .NET, a fraction of the size, starts in about a
# second. Its timer runs in every replica (see README, "Backups with several replicas").
# FUNCTIONS_WORKER_PROCESS_COUNT: app processes behind the one port, one per core the container
# gets. An image cannot know that, so it assumes one; deploy/ manifests set it to their CPU limit.
FROM node:22-bookworm-slim AS standalone
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    FUNCTIONS_WORKER_PROCESS_COUNT=1 \
    FUNCTIONS_REQUEST_BODY_SIZE_LIMIT=1048576 \
    COUNTER_DATA_DIR=/app/local_dir \
    COUNTER_CONFIG_FILE=/app/config/config.json
WORKDIR /app
COPY --from=build /app/package.json /app/host.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/public ./public
COPY --from=build /app/host/package.json ./host/
COPY --from=build /app/host/dist ./host/dist
COPY scripts/healthcheck.mjs /usr/local/lib/rusty-counter/healthcheck.mjs
# The code stays root's and read-only to the service; only the data directory is the node user's,
# so a fresh named volume mounted there starts out writable (a bind mount keeps its host owner).
RUN mkdir -p /app/local_dir /app/config && chown node:node /app/local_dir
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["node", "/usr/local/lib/rusty-counter/healthcheck.mjs"]
# The same command as `npm run start:prod`, without npm in between, so that SIGTERM reaches the
# host itself and in-flight requests finish before the container stops.
CMD ["node", "host/dist/main.js"]


# The official Functions host (.NET) running the app, as Azure runs it. The last stage, so that a
# plain `docker build` builds it. It keeps the base image's user (root) and start command.
FROM mcr.microsoft.com/azure-functions/node:4-node22 AS functions
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    ASPNETCORE_URLS=http://+:8000 \
    COUNTER_DATA_DIR=/app/local_dir \
    COUNTER_CONFIG_FILE=/app/config/config.json
# What `npm run package` puts in the zip: the compiled app without the offline host.
COPY --from=build /app/package.json /app/host.json /home/site/wwwroot/
COPY --from=build /app/node_modules /home/site/wwwroot/node_modules
COPY --from=build /app/dist/functions /home/site/wwwroot/dist/functions
COPY --from=build /app/dist/shared /home/site/wwwroot/dist/shared
COPY --from=build /app/public /home/site/wwwroot/public
COPY scripts/healthcheck.mjs /usr/local/lib/rusty-counter/healthcheck.mjs
RUN mkdir -p /app/local_dir /app/config
EXPOSE 8000
# The .NET host needs several seconds before it routes requests, hence the longer grace period.
HEALTHCHECK --interval=10s --timeout=5s --start-period=40s --retries=3 \
    CMD ["node", "/usr/local/lib/rusty-counter/healthcheck.mjs"]
