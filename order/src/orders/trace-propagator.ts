import { Injectable } from '@nestjs/common';
import { activeTraceHeaders } from '@eo/platform';

/**
 * Supplies the propagation headers (Datadog and W3C) of the request's active trace. They travel in
 * the envelope's `trace` field, and are stored with the order, so the inventory's `order.process`
 * span joins the `POST /orders` trace whether the order arrives by Pub/Sub or by the sweep.
 */
@Injectable()
export class TracePropagator {
  /** Headers to carry, or undefined when tracing is off. */
  headers(): Record<string, string> | undefined {
    return activeTraceHeaders();
  }
}
