// Parses each mermaid file named with mermaid's own parser (jsdom gives it the DOM it expects) and
// prints, per file, the diagram type and the gantt tasks as mermaid's database holds them, or the
// parse error. tests/render_tools.py copies it beside the installed node_modules and runs
// node gantt-tasks.mjs <file>...
import fs from "fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");  // after the DOM exists: mermaid reads it on load
mermaid.initialize({ startOnLoad: false });

const out = [];
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, "utf8");
  try {
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const tasks = diagram.type === "gantt" ? diagram.db.getTasks().map((t) => ({
      section: t.section, name: t.task.trim(), start: +t.startTime, end: +t.endTime,
      active: !!t.active, done: !!t.done, crit: !!t.crit })) : [];
    out.push({ file, type: diagram.type, title: diagram.db.getDiagramTitle?.() ?? "", tasks });
  } catch (error) {
    out.push({ file, error: String((error && error.message) || error) });
  }
}
process.stdout.write(JSON.stringify(out));
process.exit(0);
