// Rendering: a stored template version + request data -> subject, text and HTML (SPEC §4 step 2).
import { createRequire } from 'node:module';
import { LRUCache } from 'lru-cache';
import type Handlebars from 'handlebars';
import { TemplateError } from './errors.js';
import { DEFAULT_RENDER_BOUNDS, meterEngine, RenderBudget, RenderOverBound, withBudget, type RenderBounds } from './render-budget.js';
import type { SendRequest } from './send-request.js';
import type { XmlObject } from './xml-data.js';

export type TemplateVersion = {
  id: number;
  messageType: string;
  version: number;
  subject: string;
  textBody: string | null;
  htmlBody: string | null;
  defaultChannel: string | null;
};
export type Rendered = { subject: string; text: string | null; html: string | null };

type Compiled = { subject: HandlebarsTemplateDelegate; text?: HandlebarsTemplateDelegate; html?: HandlebarsTemplateDelegate };
// A version never changes once stored, so its compiled form is cached by id. The sources are kept with it:
// ids are per database (several schemas may live in one process), so a hit must also be the same template.
// Bounded, least recently used out first: every stored version would otherwise stay compiled for the process's life.
export const RENDER_CACHE_ENTRIES = 1_000;
const cache = new LRUCache<number, { subject: string; textBody: string | null; htmlBody: string | null; compiled: Compiled }>({ max: RENDER_CACHE_ENTRIES });
/** How many compiled versions the process holds. */
export const compiledTemplates = () => cache.size;
// Handlebars (CommonJS) is required with the first template, not at start (cold start); require is synchronous,
// so rendering stays synchronous.
const require = createRequire(import.meta.url);
let engine: { lib: typeof Handlebars; hb: typeof Handlebars } | undefined;
const handlebars = () => {
  if (!engine) {
    const lib = require('handlebars') as typeof Handlebars;
    engine = { lib, hb: lib.create() };
    // {{log}} would let a template write to the gateway's stdout; no template needs it.
    engine.hb.unregisterHelper('log');
    meterEngine(engine.hb);
  }
  return engine;
};

/**
 * Compiles a template source; a syntax error names the part and the engine's line. Unchecked (a stored
 * version, checked when it was added), the engine compiles at first use only, and once, not twice.
 */
const PART_FIELDS: Record<string, string> = { subject: 'subject', text: 'textBody', html: 'htmlBody' };

export function compileTemplate(t: Pick<TemplateVersion, 'subject' | 'textBody' | 'htmlBody'>, check = true): Compiled {
  const one = (src: string, part: string, escape: boolean) => {
    try {
      const { hb } = handlebars();
      const fn = hb.compile(src, { strict: true, noEscape: !escape });
      if (check) hb.precompile(src, { strict: true }); // surfaces syntax errors now, not at first use
      return fn;
    } catch (e) {
      // Named by the template part that fails, never messageType: the type exists, its source is wrong (400, not 404).
      throw new TemplateError(`template ${part} does not compile: ${(e as Error).message}`, PART_FIELDS[part]!);
    }
  };
  return {
    subject: one(t.subject, 'subject', false),
    text: t.textBody ? one(t.textBody, 'text', false) : undefined,
    html: t.htmlBody ? one(t.htmlBody, 'html', true) : undefined,
  };
}

/** Template data: request fields, then properties by key, then the parsed xmlData (its root element is a key). */
export function templateData(req: SendRequest, xml: XmlObject): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req)) {
    if (k === 'attachments' || k === 'properties' || k === 'params' || k === 'xmlData') continue;
    if (v !== undefined) fields[k] = v;
  }
  const props = Object.fromEntries(req.properties.map((p) => [p.key, p.value]));
  return { ...fields, ...props, ...xml };
}

/** Renders every part within the bounds (time: the whole render; size: each part); over them is code 3. */
export function renderTemplate(t: TemplateVersion, data: Record<string, unknown>, bounds: RenderBounds = DEFAULT_RENDER_BOUNDS): Rendered {
  const hit = cache.get(t.id);
  let c = hit && hit.subject === t.subject && hit.textBody === t.textBody && hit.htmlBody === t.htmlBody ? hit.compiled : undefined;
  if (!c) {
    c = compileTemplate(t, false);
    warm(c, bounds);
    cache.set(t.id, { subject: t.subject, textBody: t.textBody, htmlBody: t.htmlBody, compiled: c });
  }
  const deadline = performance.now() + bounds.maxMs;
  const run = (fn: HandlebarsTemplateDelegate | undefined, part: string) => {
    if (!fn) return null;
    const budget = new RenderBudget(bounds, deadline);
    try {
      return withBudget(budget, () => budget.finish(fn(data)));
    } catch (e) {
      const over = overBound(e);
      if (over) throw new TemplateError(`template ${t.messageType} v${t.version} (${part}) is over the render bound (${over})`, 'xmlData');
      const m = /"([^"]+)" not defined/.exec((e as Error).message);
      const what = m ? `the variable ${variableAt(sourceOf(t, part), e) ?? m[1]}` : (e as Error).message;
      throw new TemplateError(`template ${t.messageType} v${t.version} (${part}) needs ${what}, which the request does not provide`, 'xmlData');
    }
  };
  return { subject: run(c.subject, 'subject')!.trim(), text: run(c.text, 'text'), html: run(c.html, 'html') };
}

/**
 * The engine compiles a template at its first call: a first call without data does it (and stops at the first
 * variable), so compiling, which takes long for a large template, is not charged to a render's time bound.
 */
function warm(c: Compiled, bounds: RenderBounds) {
  for (const fn of [c.subject, c.text, c.html]) {
    if (!fn) continue;
    const budget = new RenderBudget(bounds, performance.now() + bounds.maxMs);
    try {
      withBudget(budget, () => fn({}));
    } catch {
      // expected: the data is missing; a real error shows when the part is rendered
    }
  }
}

/** A bound that was hit, or the engine running out of string length or stack on the way to one. */
function overBound(e: unknown): string | undefined {
  if (e instanceof RenderOverBound) return `${e.bound}: ${e.detail}`;
  if (e instanceof RangeError) return /stack/i.test(e.message) ? 'depth: it nests too deeply' : 'output size: the text is too large';
  return undefined;
}

const sourceOf = (t: TemplateVersion, part: string) => (part === 'subject' ? t.subject : part === 'text' ? t.textBody : t.htmlBody) ?? '';

/**
 * Handlebars names only the last segment of a missing path ("contractNumber", even when DATA itself is
 * absent); its error carries the position, so the full path as written (`DATA.contractNumber`) is found there.
 */
function variableAt(src: string, err: unknown): string | undefined {
  const { lineNumber, column } = err as { lineNumber?: number; column?: number };
  if (lineNumber === undefined || column === undefined) return undefined;
  let found: string | undefined;
  const { lib, hb } = handlebars();
  const visitor = new lib.Visitor();
  visitor.PathExpression = (p: hbs.AST.PathExpression) => {
    if (p.loc.start.line === lineNumber && p.loc.start.column === column) found = p.original;
  };
  try {
    visitor.accept(hb.parse(src));
  } catch {
    return undefined;
  }
  return found;
}
