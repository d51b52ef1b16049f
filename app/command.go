package app

import (
	"context"
	"errors"
	"slices"

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
	actor    domain.Actor
	batch    eventstore.Batch
	stored   []func(eventstore.Result)
	position int64
	// secret travels with the first event appended as its pending secret
	// (a link's token, for the email that event sends).
	secret string
	// taken answers a reservation another holder has; nil answers a
	// concurrency conflict, so the next attempt decides on the new state.
	taken func(*eventstore.ReservationError) error
	// entered are the organizations where this attempt records the
	// actor's newer verified email (see organization).
	entered []entered
}

// entered is one organization's stream in the batch that begins with the
// actor's newer verified email: its index in batch.Streams, and how many
// of its first events are that record.
type entered struct {
	id       string
	index, n int
}

// add appends evs to s, expected at that version, with fresh ids. On an
// organization's stream that begins with the actor's newer email, they
// follow it.
func (t *attempt) add(s stream, expected eventstore.Expected, evs []domain.Event) {
	for _, e := range t.entered {
		if e.id == s.id {
			sa := &t.batch.Streams[e.index]
			sa.Events = append(sa.Events, t.a.newEvents(evs)...)
			return
		}
	}
	t.batch.Streams = append(t.batch.Streams, eventstore.StreamAppend{StreamID: s.id, StreamType: s.typ, Expected: expected,
		Events: t.a.newEvents(evs)})
}

// organization loads an organization for this attempt. An actor who is a
// member there and whose token now carries a newer verified email than the
// recorded one (domain.DecideRecordMemberEmail) has the change applied to
// the state first, so the command decides with it, and appended at the
// head of the organization's stream in the command's batch: once the
// batch is stored, the fold shows the new email and later commands record
// nothing. A command refused after this load appends that record alone
// (see run), as Enter does for a request that runs no command.
func (t *attempt) organization(ctx context.Context, id uuid.UUID) (loaded[*OrganizationState], error) {
	l, err := organizationFold.load(ctx, t.a, organizationStream(id))
	if err != nil {
		return l, err
	}
	evs, _ := domain.DecideRecordMemberEmail(l.state.Org, domain.RecordMemberEmail{Actor: t.actor})
	if len(evs) == 0 {
		return l, nil
	}
	for _, e := range evs {
		l.state.Org.Apply(e)
	}
	for _, e := range t.entered {
		if e.id == l.stream.id {
			return l, nil // loaded twice in one attempt: recorded once
		}
	}
	t.add(l.stream, eventstore.Exactly(l.version), evs)
	t.entered = append(t.entered, entered{id: l.stream.id, index: len(t.batch.Streams) - 1, n: len(evs)})
	t.stored = append(t.stored, func(res eventstore.Result) { l.state.Position = res.Position })
	return l, nil
}

// org is organization for a decision that reads only the aggregate.
func (t *attempt) org(ctx context.Context, id uuid.UUID) (*domain.Organization, error) {
	l, err := t.organization(ctx, id)
	if err != nil {
		return nil, err // l holds no state
	}
	return l.state.Org, nil
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
// a lost race. A refusal of try is the answer; the actor's newer email an
// attempt recorded on the way (see attempt.organization) is appended alone
// before it is given.
func (a *App) run(ctx context.Context, actor domain.Actor, command string, try func(t *attempt) error) (eventstore.Result, error) {
	return a.retry(ctx, func() (eventstore.Result, error) {
		t := &attempt{a: a, actor: actor, batch: eventstore.Batch{Meta: a.metadata(ctx, actor, command)}}
		res, err := t.tryAndAppend(ctx, try)
		if refusal(err) && len(t.entered) > 0 {
			if _, rerr := a.Store.Append(ctx, t.emailsOnly(ctx)); rerr != nil {
				return res, rerr // a lost race decides again
			}
			a.appended()
		}
		return res, err
	})
}

// tryAndAppend is one attempt: try, then append what it decided.
func (t *attempt) tryAndAppend(ctx context.Context, try func(t *attempt) error) (eventstore.Result, error) {
	if err := try(t); err != nil {
		return eventstore.Result{}, err
	}
	if !slices.ContainsFunc(t.batch.Streams, func(s eventstore.StreamAppend) bool { return len(s.Events) > 0 }) {
		return eventstore.Result{Position: t.position}, nil
	}
	if first, ok := t.firstOwnEvent(); ok && t.secret != "" {
		t.batch.Secrets = append(t.batch.Secrets, eventstore.Secret{EventID: first, Value: []byte(t.secret)})
	}
	res, err := t.a.Store.Append(ctx, t.batch)
	var taken *eventstore.ReservationError
	switch {
	case errors.As(err, &taken) && t.taken != nil:
		return res, t.taken(taken)
	case errors.As(err, &taken):
		return res, domain.ErrConcurrencyConflict("")
	case err != nil:
		return res, err
	}
	t.a.appended()
	for _, f := range t.stored {
		f(res)
	}
	return res, nil
}

// appended wakes the projector of this replica after an append.
func (a *App) appended() {
	if a.Appended != nil {
		a.Appended()
	}
}

// refusal tells a rule's answer from a failure and from a lost race
// (decided again).
func refusal(err error) bool {
	return domain.ErrorCode(err) != "" && !eventstore.IsConcurrencyConflict(err)
}

// firstOwnEvent is the first event the command itself decided (the one a
// secret travels with), after any newer email recorded on the way.
func (t *attempt) firstOwnEvent() (uuid.UUID, bool) {
	for i, s := range t.batch.Streams {
		skip := 0
		for _, e := range t.entered {
			if e.index == i {
				skip = e.n
			}
		}
		if len(s.Events) > skip {
			return s.Events[skip].ID, true
		}
	}
	return uuid.Nil, false
}

// emailsOnly is the batch of a refused attempt: the newer emails it
// recorded, each at the version its organization was read at.
func (t *attempt) emailsOnly(ctx context.Context) eventstore.Batch {
	b := eventstore.Batch{Meta: t.a.metadata(ctx, t.actor, "RecordMemberEmail")}
	for _, e := range t.entered {
		s := t.batch.Streams[e.index]
		s.Events = s.Events[:e.n:e.n]
		b.Streams = append(b.Streams, s)
	}
	return b
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
	return updateLoaded(ctx, a, actor, command, func(*attempt) (loaded[S], error) { return spec.load(ctx, a, s) }, decide)
}

// updateLoaded is update for a fold loaded by the attempt itself (an
// organization, see attempt.organization).
func updateLoaded[S any](ctx context.Context, a *App, actor domain.Actor, command string, load func(t *attempt) (loaded[S], error),
	decide func(t *attempt, state S) ([]domain.Event, error)) (S, eventstore.Result, error) {
	var state S
	res, err := a.run(ctx, actor, command, func(t *attempt) error {
		l, err := load(t)
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
