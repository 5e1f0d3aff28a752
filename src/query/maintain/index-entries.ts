// The index keys of one row: [indexId, ...column key parts, pk], one key per
// distinct element of a multi-entry (`each`) column, none when that column
// is not an array. Value stored under each key: the pk.
import { encodeKey } from "../../storage/key-codec.js";
import type { KeyPart } from "../../storage/store.js";
import type { IndexDefinition } from "../plan/plan-nodes.js";
import { readPath, toKeyPart } from "../values/value.js";

type Row = Readonly<Record<string, unknown>>;

const flagCache = new WeakMap<IndexDefinition, boolean[]>();

export function indexFlags(index: IndexDefinition): boolean[] {
  let f = flagCache.get(index);
  if (f === undefined) {
    f = [false, ...index.columns.map((c) => c.desc), false];
    flagCache.set(index, f);
  }
  return f;
}

export function indexKeys(index: IndexDefinition, pk: string, row: Row): Buffer[] {
  const parts: KeyPart[][] = [[index.id]];
  let tuples = parts;
  for (const c of index.columns) {
    const raw = readPath(row, c.path);
    let values: KeyPart[];
    if (c.each) {
      if (!Array.isArray(raw)) return [];
      const seen = new Set<string>();
      values = [];
      for (const el of raw as unknown[]) {
        const p = toKeyPart(el);
        const k = `${typeof p}:${String(p)}`;
        if (seen.has(k)) continue;
        seen.add(k);
        values.push(p);
      }
    } else values = [toKeyPart(raw)];
    const next: KeyPart[][] = [];
    for (const t of tuples) for (const v of values) next.push([...t, v]);
    tuples = next;
  }
  const flags = indexFlags(index);
  return tuples.map((t) => encodeKey([...t, pk], flags));
}
