import { defineError } from '../../lib/errors.js';

export const realtimeErrors = {
  // Refused before the upgrade: a page of another site must not ride the session cookie (SECURITY C4).
  originRefused: defineError('realtime.origin_refused', 403, 'This page may not open a realtime connection'),
  notWebSocket: defineError('realtime.upgrade_required', 426, 'Open this address as a WebSocket'),
};
