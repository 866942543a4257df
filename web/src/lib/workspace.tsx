import { createContext, useContext } from 'react';
import type { Role, Session } from '../api/types.js';

export interface WorkspaceInfo {
  ws: string;
  role: Role;
  user: Session['user'];
  /** Agents and up write; client viewers only read (the server enforces it too). */
  canWrite: boolean;
  isAdmin: boolean;
}

export const WorkspaceContext = createContext<WorkspaceInfo | null>(null);

export function useWorkspace(): WorkspaceInfo {
  const value = useContext(WorkspaceContext);
  if (!value) throw new Error('useWorkspace outside a workspace');
  return value;
}

export function roleInfo(role: Role) {
  return { canWrite: role !== 'client_viewer', isAdmin: role === 'owner' || role === 'admin' };
}
