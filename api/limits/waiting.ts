// How many `Prefer: wait=N` requests (POST /checkouts) may wait at once in this process, each
// holding a connection and a Temporal update open for up to 30 s. Past the cap a request is not
// refused: it is answered at once, as without the preference (202, the checkout running, no
// payment answer yet, no Preference-Applied), and the client polls.
export interface WaitingRequests {
  /** A place to wait in, released by calling what it returns; undefined when all are taken. */
  take(): (() => void) | undefined;
  /** How many are waiting now. */
  readonly waiting: number;
}

export function waitingRequests(max: number): WaitingRequests {
  let waiting = 0;
  return {
    take() {
      if (waiting >= max) return undefined;
      waiting++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        waiting--;
      };
    },
    get waiting() {
      return waiting;
    },
  };
}
