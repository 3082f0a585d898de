// For errors.test.mjs: the wasm engine's codes for flows.ERROR_CASES, as a
// JSON array on stdout. Runs under `node --no-experimental-fetch` (the wasm
// glue needs it).
//   node --no-experimental-fetch errors-wasm.mjs FLAVOUR DAMAGED_FILE LID_FILE BUDGET_BYTES
import fs from 'node:fs';
import { loadEngine } from '../js/helpers.mjs';

const [flavour, damaged, lid, budget] = process.argv.slice(2);
const code = (fn) => { try { fn(); return 'none'; } catch (e) { return e.code; } };

const engine = await loadEngine(flavour, { threads: 1 });
const codes = [
  engine.request('{"id":1,"op":').error?.code,
  engine.request({ id: 2, op: 'nope' }).error?.code,
  engine.request({ id: 3, op: 'classify', model: 'nope', text: 'x' }).error?.code,
  code(() => engine.addModel('damaged', fs.readFileSync(damaged))),
  code(() => { engine.setMemoryBudget(Number(budget)); engine.addModel('lid176', fs.readFileSync(lid)); }),
];
engine.destroy();
console.log(JSON.stringify(codes));
