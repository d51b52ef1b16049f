package app

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// The one command path (wild-workouts' UpdateTraining, with the event
// store as the repository): an attempt loads what its rule needs, decides,
// and says what to append; run appends it in one batch, each stream at the
// version the decision read, and runs the attempt again on the new state
// when another command changed one of those streams (or took a reservation
// the attempt asked for) meanwhile. Handlers hold only their rule.

// maxAttempts bounds the decisions of one command; a command that loses
// the race this often answers the conflict.
const maxAttempts = 4

// stream names one stream and its type.
type stream struct{ id, typ string }

// attempt is one try of a command: the batch it will append, what the
// states it read become once the batch is stored, and what it answers when
// it appends nothing.
type attempt struct {
	a        *App
	batch    eventstore.Batch
	stored   []func(eventstore.Result)
	position int64
	// secret travels with the first event appended as its pending secret
	// (a link's token, for the email that event sends).
	secret string
	// taken answers a reservation another holder has; nil answers a
	// concurrency conflict, so the next attempt decides on the new state.
	taken func(*eventstore.ReservationError) error
}

// add appends evs to s, expected at that version, with fresh ids.
func (t *attempt) add(s stream, expected eventstore.Expected, evs []domain.Event) {
	t.batch.Streams = append(t.batch.Streams, eventstore.StreamAppend{StreamID: s.id, StreamType: s.typ, Expected: expected,
		Events: t.a.newEvents(evs)})
}

// append records evs decided on l: appended at the version l was read at,
// and applied to l's state once stored. A decision with nothing to change
// answers where l's stream stands.
func (l loaded[S]) append(t *attempt, evs []domain.Event) {
	if len(evs) == 0 {
		t.position = l.position
		return
	}
	t.add(l.stream, eventstore.Exactly(l.version), evs)
	t.stored = append(t.stored, func(res eventstore.Result) {
		for _, e := range evs {
			l.spec.apply(l.state, eventstore.Event{Envelope: eventstore.Envelope{Position: res.Position, RecordedAt: res.RecordedAt}, Data: e})
		}
	})
}

// run is the command path: try, append what it decided, and try again on
// a lost race. A refusal of try is the answer.
func (a *App) run(ctx context.Context, actor domain.Actor, command string, try func(t *attempt) error) (eventstore.Result, error) {
	return a.retry(ctx, func() (eventstore.Result, error) {
		t := &attempt{a: a, batch: eventstore.Batch{Meta: a.metadata(ctx, actor, command)}}
		if err := try(t); err != nil {
			return eventstore.Result{}, err
		}
		first, ok := firstEvent(t.batch)
		if !ok {
			return eventstore.Result{Position: t.position}, nil
		}
		if t.secret != "" {
			t.batch.Secrets = append(t.batch.Secrets, eventstore.Secret{EventID: first, Value: []byte(t.secret)})
		}
		res, err := a.Store.Append(ctx, t.batch)
		var taken *eventstore.ReservationError
		switch {
		case errors.As(err, &taken) && t.taken != nil:
			return res, t.taken(taken)
		case errors.As(err, &taken):
			return res, domain.ErrConcurrencyConflict("")
		case err != nil:
			return res, err
		}
		for _, f := range t.stored {
			f(res)
		}
		return res, nil
	})
}

func firstEvent(b eventstore.Batch) (uuid.UUID, bool) {
	for _, s := range b.Streams {
		if len(s.Events) > 0 {
			return s.Events[0].ID, true
		}
	}
	return uuid.Nil, false
}

// retry runs an attempt again when it lost a race on expected version:
// the next attempt decides on the new state. A cancelled context is not
// retried.
func (a *App) retry(ctx context.Context, attempt func() (eventstore.Result, error)) (eventstore.Result, error) {
	var res eventstore.Result
	var err error
	for i := 0; i < maxAttempts; i++ {
		res, err = attempt()
		if err == nil {
			if a.Appended != nil {
				a.Appended()
			}
			return res, nil
		}
		if !eventstore.IsConcurrencyConflict(err) || ctx.Err() != nil {
			return res, err
		}
	}
	return res, err
}

// update is run for a decision on one stream's fold: load it, decide,
// append what was decided; decide may add other streams to t.
func update[S any](ctx context.Context, a *App, actor domain.Actor, command string, spec foldSpec[S], s stream,
	decide func(t *attempt, state S) ([]domain.Event, error)) (S, eventstore.Result, error) {
	var state S
	res, err := a.run(ctx, actor, command, func(t *attempt) error {
		l, err := spec.load(ctx, a, s)
		if err != nil {
			return err
		}
		state = l.state
		evs, err := decide(t, l.state)
		if err != nil {
			return err
		}
		l.append(t, evs)
		return nil
	})
	return state, res, err
}
