/**
 * WhatsApp's customer-service window: free-form messages may be sent only within 24 hours of the
 * user's last message; outside it, only an approved template may open the conversation again.
 */

export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** When the window opened by the user's last message closes. */
export function windowClosesAt(lastInboundAt: Date): Date {
  return new Date(lastInboundAt.getTime() + SERVICE_WINDOW_MS);
}

/** True while free-form messages may be sent: the user wrote less than 24 hours ago. */
export function isWindowOpen(lastInboundAt: Date | undefined, now: Date): boolean {
  if (!lastInboundAt || Number.isNaN(lastInboundAt.getTime())) return false;
  return now.getTime() < windowClosesAt(lastInboundAt).getTime();
}

export const NO_TEMPLATE_MESSAGE = 'Outside the 24-hour window and no approved template is configured';

export type Delivery = 'free-form' | 'template' | { fail: string };

export interface DeliveryInput {
  /** When the user last wrote to this number; undefined if never. */
  lastInboundAt: Date | undefined;
  now: Date;
  /** Whether the bot has an approved template to reopen the conversation with. */
  templateConfigured: boolean;
  /**
   * Treat the window as closed this long before it really closes, so a message queued in its last
   * moments is not rejected on arrival. Default 0.
   */
  marginMs?: number;
}

/** How a message to this user may go out now: free-form inside the window, else a template, else not at all. */
export function chooseDelivery({ lastInboundAt, now, templateConfigured, marginMs = 0 }: DeliveryInput): Delivery {
  if (isWindowOpen(lastInboundAt, new Date(now.getTime() + Math.max(0, marginMs)))) return 'free-form';
  if (templateConfigured) return 'template';
  return { fail: NO_TEMPLATE_MESSAGE };
}
