import { defineError } from '../../lib/errors.js';

export const workspaceErrors = {
  slugTaken: defineError('workspaces.slug_taken', 409, 'That workspace slug is taken'),
  alreadyMember: defineError('users.already_member', 409, 'That person is already a member of this workspace'),
  userNotFound: defineError('users.not_found', 404, 'No such user in this workspace'),
  ownerOnly: defineError('users.owner_role_needs_owner', 403, 'Only an owner can make someone an owner'),
  tokenNotFound: defineError('tokens.not_found', 404, 'No such API token'),
  tokenRoleTooHigh: defineError('tokens.role_too_high', 403, 'A token cannot have a higher role than its creator'),
};
