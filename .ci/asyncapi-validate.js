// Validates an AsyncAPI document with @asyncapi/parser (installed by .ci/run):
// any error-level diagnostic fails; warnings are printed.
const { Parser } = require('@asyncapi/parser');
const fs = require('fs');
(async () => {
  const doc = fs.readFileSync(process.argv[2], 'utf8');
  const { document, diagnostics } = await new Parser().parse(doc);
  let errors = 0;
  for (const d of diagnostics) {
    const sev = ['error', 'warning', 'info', 'hint'][d.severity] || d.severity;
    if (d.severity === 0) errors++;
    console.log(`${sev} ${d.code} ${d.path.join('.')}: ${d.message}`);
  }
  if (!document || errors > 0) { console.log(`${errors} error(s)`); process.exit(1); }
  console.log(`AsyncAPI ${document.version()}: ${document.channels().length} channels, ${document.operations().length} operations, ${document.messages().length} messages, valid`);
})().catch(e => { console.error(e); process.exit(1); });
