package eventstore

import (
	"context"
	"time"
)

// A Follower is a reader of the log that takes one batch at a time (the
// projector, the NATS forwarder): Follow is its loop, written once.
type Follower struct {
	// Step handles at most one batch and says how many events it read.
	Step func(ctx context.Context) (int, error)
	// Poll is the wait after an empty batch; Wake cuts it short (an append
	// on this replica).
	Poll time.Duration
	Wake <-chan struct{}
	// State is told "live" after a batch went through, "failing" after one
	// failed; Failed is told the error (to log it, to repair what it needs).
	State  func(string)
	Failed func(n int, err error)
}

// Follow steps until ctx ends: at once again after a batch that read
// something (more may be waiting), after Poll or a wake-up when it read
// nothing, and after a backoff that doubles up to 5 s while batches fail.
func (f Follower) Follow(ctx context.Context) error {
	backoff := f.Poll
	for {
		n, err := f.Step(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			f.State("failing")
			f.Failed(n, err)
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		case n > 0:
			f.State("live")
			backoff = f.Poll
			continue
		default:
			f.State("live")
			backoff = f.Poll
		}
		select {
		case <-ctx.Done():
			return nil
		case <-f.Wake:
		case <-time.After(backoff):
		}
	}
}
