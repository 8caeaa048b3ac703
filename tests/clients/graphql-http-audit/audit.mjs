// Runs the graphql-http server audit against the URL given as the only
// argument and prints one JSON line per audit: {id, name, status, reason}.
import { auditServer } from "graphql-http";

const url = process.argv[2];
const results = await auditServer({ url });
for (const result of results) {
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    line.reason = result.reason;
    line.body = await result.response.text().catch(() => "");
    line.statusCode = result.response.status;
  }
  console.log(JSON.stringify(line));
}
