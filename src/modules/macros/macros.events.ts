import { Type } from 'typebox';
import { AGENTS_AND_CLIENTS, defineEvents } from '../../events/define.js';

const MacroRef = Type.Object({ macroId: Type.String({ format: 'uuid', description: 'the macro' }) }, { additionalProperties: false });

/** Macro changes are events so every open agent app refreshes its macro list (realtime). */
export const macroEvents = defineEvents({
  'macro.created': { description: 'A macro was created.', scope: 'workspace', audience: AGENTS_AND_CLIENTS, data: MacroRef },
  'macro.updated': { description: 'A macro was changed.', scope: 'workspace', audience: AGENTS_AND_CLIENTS, data: MacroRef },
  'macro.deleted': { description: 'A macro was deleted.', scope: 'workspace', audience: AGENTS_AND_CLIENTS, data: MacroRef },
});
