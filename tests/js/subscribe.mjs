// A real graphql-ws client (the library Apollo's GraphQLWsLink uses), for the
// Python tests: node subscribe.mjs '{"url": ..., "subscriptions": [...], "count": N}'.
// Prints one JSON line per message: {label, next} | {label, error} | {label, complete};
// exits once `count` events have arrived or every subscription has ended.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const { url, subscriptions, count } = JSON.parse(process.argv[2]);
const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
let events = 0;
let open = subscriptions.length;

function print(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function done() {
  client.dispose();
  process.exit(0);
}

client.on("connected", () => print({ connected: true }));

for (const { label, query, variables } of subscriptions) {
  client.subscribe(
    { query, variables },
    {
      next: (payload) => {
        print({ label, next: payload });
        events += 1;
        if (events >= count) done();
      },
      error: (error) => {
        print({ label, error: Array.isArray(error) ? error : String(error) });
        if (--open === 0) done();
      },
      complete: () => {
        print({ label, complete: true });
        if (--open === 0) done();
      },
    },
  );
}
