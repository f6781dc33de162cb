// Customer emails, each with an HTML and a plain-text part.

import { lineTotal } from "../money/amounts.ts";
import { formatMoney } from "../money/format.ts";
import type { NotificationRequest } from "../workflows/types.ts";

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

export function renderEmail(n: NotificationRequest): RenderedEmail {
  const total = formatMoney(n.order.totalAmount, n.order.currency);
  const lines = n.items.map((i) => ({
    label: `${i.quantity} × ${i.name}`,
    amount: formatMoney(lineTotal(i), n.order.currency),
  }));
  const itemsText = lines.map((l) => `  ${l.label}  ${l.amount}`).join("\n");
  const itemsHtml = lines.map((l) => `<tr><td>${escapeHtml(l.label)}</td><td align="right">${l.amount}</td></tr>`).join("");
  const table = `<table>${itemsHtml}<tr><td><strong>Total</strong></td><td align="right"><strong>${total}</strong></td></tr></table>`;
  // No order id: the order could not be recorded (checkout-failed).
  const ref = n.order.orderId ? `Order ${n.order.orderId} (checkout ${n.checkoutId})` : `Checkout ${n.checkoutId}`;

  switch (n.template) {
    case "order-paid":
      return {
        subject: `Payment received: ${total}`,
        text: `Thank you! We received your payment of ${total}.\n\n${itemsText}\n  Total  ${total}\n\n${ref}\n`,
        html: `<p>Thank you! We received your payment of <strong>${total}</strong>.</p>${table}<p>${escapeHtml(ref)}</p>`,
      };
    case "payment-failed": {
      const reason = n.reason ?? "The payment could not be completed.";
      return {
        subject: `Your payment of ${total} did not go through`,
        text: `We could not take your payment of ${total}.\nReason: ${reason}\nYou have not been charged.\n\n${ref}\n`,
        html: `<p>We could not take your payment of <strong>${total}</strong>.</p><p>Reason: ${escapeHtml(reason)}</p><p>You have not been charged.</p><p>${escapeHtml(ref)}</p>`,
      };
    }
    case "checkout-expired":
      return {
        subject: "Your order expired before payment",
        text: `Your order of ${total} was cancelled because the payment was not completed in time. You have not been charged.\n\n${ref}\n`,
        html: `<p>Your order of <strong>${total}</strong> was cancelled because the payment was not completed in time.</p><p>You have not been charged.</p><p>${escapeHtml(ref)}</p>`,
      };
    case "refund-issued": {
      const refunded = formatMoney(n.refund?.amount ?? 0, n.order.currency);
      return {
        subject: `Refund issued: ${refunded}`,
        text: `We refunded ${refunded} of your payment of ${total}. It may take a few days to reach your account.\n\n${ref}\n`,
        html: `<p>We refunded <strong>${refunded}</strong> of your payment of ${total}.</p><p>It may take a few days to reach your account.</p><p>${escapeHtml(ref)}</p>`,
      };
    }
    case "checkout-failed": {
      const reason = n.reason ?? "The order could not be completed.";
      return {
        subject: "We could not take your order",
        text: `We could not take your order: ${reason}\nYou have not been charged.\n\n${ref}\n`,
        html: `<p>We could not take your order: ${escapeHtml(reason)}</p><p>You have not been charged.</p><p>${escapeHtml(ref)}</p>`,
      };
    }
    case "order-shipped": {
      const carrier = n.shipment?.carrier ?? "";
      const tracking = n.shipment?.tracking ?? "";
      return {
        subject: "Your order has shipped",
        text: `Your order of ${total} is on its way with ${carrier}, tracking number ${tracking}.\n\n${itemsText}\n\n${ref}\n`,
        html: `<p>Your order of <strong>${total}</strong> is on its way with ${escapeHtml(carrier)}, tracking number <strong>${escapeHtml(tracking)}</strong>.</p>${table}<p>${escapeHtml(ref)}</p>`,
      };
    }
    case "order-delivered":
      return {
        subject: "Your order was delivered",
        text: `Your order of ${total} was delivered. Thank you for shopping with us.\n\n${ref}\n`,
        html: `<p>Your order of <strong>${total}</strong> was delivered. Thank you for shopping with us.</p><p>${escapeHtml(ref)}</p>`,
      };
    case "order-cancelled": {
      const refunded = formatMoney(n.refund?.amount ?? 0, n.order.currency);
      const reason = n.reason ? `\nReason: ${n.reason}` : "";
      return {
        subject: `Your order was cancelled and ${refunded} refunded`,
        text: `Your order of ${total} was cancelled before it shipped, and we refunded ${refunded} of your payment.${reason}\n\n${ref}\n`,
        html: `<p>Your order of <strong>${total}</strong> was cancelled before it shipped, and we refunded <strong>${refunded}</strong> of your payment.</p>${n.reason ? `<p>Reason: ${escapeHtml(n.reason)}</p>` : ""}<p>${escapeHtml(ref)}</p>`,
      };
    }
    case "checkout-cancelled":
      return {
        subject: "Your order was cancelled",
        text: `Your order of ${total} was cancelled before any payment was taken.\n\n${ref}\n`,
        html: `<p>Your order of <strong>${total}</strong> was cancelled before any payment was taken.</p><p>${escapeHtml(ref)}</p>`,
      };
  }
}
