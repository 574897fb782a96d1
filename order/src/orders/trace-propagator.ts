import { Injectable } from '@nestjs/common';

/**
 * Supplies the propagation headers (Datadog / W3C) of the request's active trace, which travel in
 * the envelope's `trace` field so the inventory span joins the order's trace. This is the seam the
 * Datadog work fills: provide a dd-trace implementation (`tracer.inject(span, 'text_map', headers)`)
 * in place of {@link NoTracePropagator}; nothing else in the order path changes.
 */
export abstract class TracePropagator {
  /** Headers to carry, or undefined when tracing is off. */
  abstract headers(): Record<string, string> | undefined;
}

/** Tracing off: envelopes carry no `trace` field. */
@Injectable()
export class NoTracePropagator extends TracePropagator {
  headers(): undefined {
    return undefined;
  }
}
