import { defineError } from '../../lib/errors.js';

export const memberErrors = {
  lastOwner: defineError('users.last_owner', 409, 'A workspace keeps at least one owner'),
  ownerChangesNeedOwner: defineError('users.owner_change_needs_owner', 403, 'Only an owner can change or remove an owner'),
};
