# One image for the API, the worker, the codec server and the migration step (docker-compose.yml
# picks the command).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY . .
# The Temporal server is a separate service here: with TEMPORAL_ADDRESS set, postinstall only
# generates the Prisma client and fetches no Temporal CLI.
RUN TEMPORAL_ADDRESS=temporal:7233 npm ci --omit=dev && npm cache clean --force
USER node
EXPOSE 3000 8234
CMD ["npm", "run", "api"]
