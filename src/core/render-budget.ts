// Render bounds: one render may take so long or build so much text, so that one template cannot stall the
// process (rendering is synchronous: while it runs, nothing else does). Handlebars has no budget of its own,
// so the budget is checked where a render does its work: in every block body and partial it runs, in every
// `{{value}}` it writes, and on the finished text.
import type Handlebars from 'handlebars';

export type RenderBounds = { maxBytes: number; maxMs: number };
export const DEFAULT_RENDER_BOUNDS: RenderBounds = { maxBytes: 4 * 1024 * 1024, maxMs: 100 };

/** Thrown inside a render that went over a bound; render.ts turns it into a TemplateError naming the template. */
export class RenderOverBound extends Error {
  constructor(readonly bound: 'output size' | 'time', readonly detail: string) {
    super(`over the render bound (${bound}): ${detail}`);
  }
}

// Checking the clock on every value written would cost more than writing it; every 64th is often enough.
const CLOCK_EVERY = 64;

export class RenderBudget {
  private written = 0;
  private values = 0;
  // Text returned by block bodies run inside the one now running: it is part of that one's result, so only
  // what a body adds itself counts (nested blocks are not counted once per level).
  private readonly inner: number[] = [];
  // Text returned by the bodies that finished at each level and not yet written: the block's own `{{…}}` writes
  // it next, and that text is counted already (else block text would count twice against the bound).
  private readonly returned: number[] = [0];

  constructor(private readonly bounds: RenderBounds, private readonly deadline: number) {}

  checkClock() {
    if (performance.now() > this.deadline) throw new RenderOverBound('time', `it took longer than ${this.bounds.maxMs} ms`);
  }

  private tooLarge(): never {
    throw new RenderOverBound('output size', `it makes more than ${this.bounds.maxBytes} bytes of text`);
  }

  /** Runs one block body or partial, counting the text it adds. */
  run<T>(body: () => T): T {
    this.checkClock();
    this.inner.push(0);
    this.returned.push(0);
    let out: T;
    let nested = 0;
    try {
      out = body();
    } finally {
      nested = this.inner.pop()!;
      this.returned.pop();
    }
    const len = typeof out === 'string' ? out.length : 0;
    this.written += len - nested;
    if (this.inner.length) this.inner[this.inner.length - 1]! += len;
    this.returned[this.returned.length - 1]! += len;
    if (this.written > this.bounds.maxBytes) this.tooLarge();
    return out;
  }

  /** The finished part: its UTF-8 size is the output bound. */
  finish(text: string): string {
    if (text.length > this.bounds.maxBytes || Buffer.byteLength(text, 'utf8') > this.bounds.maxBytes) this.tooLarge();
    return text;
  }

  /** One `{{value}}` written: `{{x}}` a thousand times with a large x builds its text inside one body. */
  charge(value: unknown): unknown {
    const level = this.returned.length - 1;
    const counted = typeof value === 'string' ? Math.min(value.length, this.returned[level]!) : 0;
    this.returned[level]! -= counted;
    const len = (typeof value === 'string' ? value.length : 0) - counted;
    this.written += len;
    if (this.inner.length) this.inner[this.inner.length - 1]! += len;
    if (this.written > this.bounds.maxBytes) this.tooLarge();
    if (++this.values % CLOCK_EVERY === 0) this.checkClock();
    return value;
  }
}

// Renders are synchronous and never nested, so the one running is the budget the wrapped helpers charge.
let current: RenderBudget | undefined;

export function withBudget<T>(budget: RenderBudget, render: () => T): T {
  current = budget;
  try {
    return render();
  } finally {
    current = undefined;
  }
}

const metered = new WeakSet<Function>();
function meter(fn: unknown): unknown {
  if (typeof fn !== 'function' || metered.has(fn)) return fn;
  const wrapped = Object.assign(function (this: unknown, ...args: unknown[]) {
    return current ? current.run(() => fn.apply(this, args)) : fn.apply(this, args);
  }, fn);
  metered.add(wrapped);
  return wrapped;
}

// The name compiled templates call for every `{{value}}`; a helper, since helpers are in scope in every
// compiled body (a template calling it by name gets its argument back). The engine passes every helper call
// an options object last, so the compiled call gives it one.
const METER = '__renderMeter';

/**
 * Puts the budget into an engine: the built-in helpers that run a body (each, if, unless, with, and the
 * `{{#list}}` sections) run it through the budget, and so does every partial (inline partials can recurse);
 * the engine's compiler (the documented JavaScriptCompiler extension point) passes every value written
 * through the meter. Templates compiled before this call are not metered.
 */
export function meterEngine(hb: typeof Handlebars) {
  for (const name of ['each', 'if', 'unless', 'with', 'blockHelperMissing']) {
    const original = hb.helpers[name] as (...a: unknown[]) => unknown;
    hb.registerHelper(name, function (this: unknown, ...args: unknown[]) {
      const options = args[args.length - 1] as { fn?: unknown; inverse?: unknown } | undefined;
      if (options && typeof options === 'object') {
        options.fn = meter(options.fn);
        options.inverse = meter(options.inverse);
      }
      return original.apply(this, args);
    });
  }
  hb.registerHelper(METER, (value: unknown) => (current ? current.charge(value) : value));

  type Compiler = { popStack(): unknown; push(e: unknown): unknown; aliasable(name: string): unknown };
  const Base = (hb as unknown as { JavaScriptCompiler: unknown }).JavaScriptCompiler as new () => Compiler & { append(): void; appendEscaped(): void };
  class MeteredCompiler extends Base {
    // `{{{x}}}`, and every value of a part compiled without escaping
    override append() {
      this.push([this.aliasable(`helpers.${METER}`), '(', this.popStack(), ', {})']);
      super.append();
    }
    // `{{x}}` in HTML
    override appendEscaped() {
      this.push([this.aliasable(`helpers.${METER}`), '(', this.popStack(), ', {})']);
      super.appendEscaped();
    }
  }
  (MeteredCompiler.prototype as unknown as { compiler: unknown }).compiler = MeteredCompiler; // child bodies too
  (hb as unknown as { JavaScriptCompiler: unknown }).JavaScriptCompiler = MeteredCompiler;

  // env.VM is the runtime's hook for partial calls; this engine gets its own copy, not the shared one.
  const vm = (hb as unknown as { VM: { invokePartial: (...a: unknown[]) => unknown } }).VM;
  const invokePartial = vm.invokePartial;
  (hb as unknown as { VM: unknown }).VM = {
    ...vm,
    invokePartial(this: unknown, ...args: unknown[]) {
      return current ? current.run(() => invokePartial.apply(this, args)) : invokePartial.apply(this, args);
    },
  };
}
