"use client";
// Notes as the screen sees them: the list query plus create/update/delete
// with optimistic updates. Rollbacks are targeted (undo only this change)
// rather than restoring a snapshot, so two overlapping edits cannot undo
// each other.
import { useMutation, useMutationState, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC, type Note } from "./trpc";

/** Optimistic notes get negative ids; the server's ids are positive. */
let lastTempId = 0;
const nextTempId = () => --lastTempId;
export const isTempNote = (note: Note) => note.id < 0;

const byNewest = (a: Note, b: Note) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : b.id - a.id);

export function useNotesQuery() {
  const trpc = useTRPC();
  return useQuery(trpc.notes.list.queryOptions());
}

/** Ids of notes with a save in flight, to mark them "saving…". */
export function useSavingIds(): ReadonlySet<number> {
  const trpc = useTRPC();
  const ids = useMutationState({
    filters: { mutationKey: trpc.notes.update.mutationKey(), status: "pending" },
    select: (m) => (m.state.variables as { id: number } | undefined)?.id,
  });
  return new Set(ids.filter((id): id is number => typeof id === "number"));
}

export type Failure = "save" | "delete";

export function useNoteMutations(onFailure: (what: Failure) => void) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const key = trpc.notes.list.queryKey();
  const set = (fn: (notes: Note[]) => Note[]) => qc.setQueryData(key, (old) => (old ? fn(old) : old));
  // Refetch once the last overlapping write settles, so a refetch never
  // lands between an optimistic change and its server answer.
  const settle = (mutationKey: readonly unknown[]) => {
    if (qc.isMutating({ mutationKey }) <= 1) void qc.invalidateQueries({ queryKey: key });
  };

  const create = useMutation(
    trpc.notes.create.mutationOptions({
      onMutate: async ({ text }) => {
        await qc.cancelQueries({ queryKey: key });
        const now = new Date().toISOString();
        const temp: Note = { id: nextTempId(), text, created_at: now, updated_at: now };
        set((notes) => [temp, ...notes]);
        return { tempId: temp.id };
      },
      onSuccess: (note, _vars, ctx) => set((notes) => notes.map((n) => (n.id === ctx.tempId ? note : n))),
      onError: (_err, _vars, ctx) => {
        if (ctx) set((notes) => notes.filter((n) => n.id !== ctx.tempId));
        onFailure("save");
      },
      onSettled: () => settle(trpc.notes.create.mutationKey()),
    }),
  );

  const update = useMutation(
    trpc.notes.update.mutationOptions({
      onMutate: async ({ id, text }) => {
        await qc.cancelQueries({ queryKey: key });
        const before = qc.getQueryData(key)?.find((n) => n.id === id);
        set((notes) => notes.map((n) => (n.id === id ? { ...n, text, updated_at: new Date().toISOString() } : n)));
        return { before };
      },
      onSuccess: (note) => set((notes) => notes.map((n) => (n.id === note.id ? note : n))),
      onError: (_err, { id }, ctx) => {
        const before = ctx?.before;
        if (before) set((notes) => notes.map((n) => (n.id === id ? before : n)));
        onFailure("save");
      },
      onSettled: () => settle(trpc.notes.update.mutationKey()),
    }),
  );

  const remove = useMutation(
    trpc.notes.delete.mutationOptions({
      onMutate: async ({ id }) => {
        await qc.cancelQueries({ queryKey: key });
        const before = qc.getQueryData(key)?.find((n) => n.id === id);
        set((notes) => notes.filter((n) => n.id !== id));
        return { before };
      },
      onError: (_err, _vars, ctx) => {
        const before = ctx?.before;
        if (before) set((notes) => [...notes.filter((n) => n.id !== before.id), before].sort(byNewest));
        onFailure("delete");
      },
      onSettled: () => settle(trpc.notes.delete.mutationKey()),
    }),
  );

  return { create, update, remove };
}
