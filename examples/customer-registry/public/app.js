// The live customer list: subscribes to the view query customers.all
// (SELECT * FROM customers ORDER BY name) over /_calyx/ws and re-renders on
// every change. Creating or renaming a customer anywhere (curl, this form,
// another tab) shows up here at once.
import { CalyxClient } from "./calyx-client.js";

const status = document.getElementById("status");
const tbody = document.getElementById("customers");
const empty = document.getElementById("empty");
for (const el of document.querySelectorAll(".origin")) el.textContent = location.origin;

const client = new CalyxClient(location.origin, {
  onStatus: (s) => {
    status.dataset.status = s;
    status.textContent = s === "open" ? "live" : s;
  },
});

function render(rows, changedKeys) {
  tbody.replaceChildren(...rows.map(({ key, row }) => {
    const tr = document.createElement("tr");
    tr.dataset.id = key;
    if (changedKeys.has(key)) tr.className = "changed";
    for (const text of [row.name, row.email, key]) {
      const td = document.createElement("td");
      td.textContent = String(text ?? "");
      tr.append(td);
    }
    return tr;
  }));
  empty.hidden = rows.length > 0;
  document.body.dataset.ready = "true";
}

const customers = client.subscribe("customers", "all", {}, (_rows, event) => {
  const changed = new Set(event.kind === "change" ? event.ops.filter((o) => o.op !== "remove").map((o) => o.key) : []);
  render(customers.entries, changed);
});

document.getElementById("create").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    await client.call("customer", "create", String(f.get("id")), { name: f.get("name"), email: f.get("email") });
    e.target.reset();
  } catch (error) {
    alert(`${error.code}: ${error.message}`);
  }
});
