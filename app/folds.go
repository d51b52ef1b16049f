package app

import (
	"context"
	"slices"
	"sync"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// A fold is what a command rebuilds from one stream (an aggregate and what
// its handler keeps beside it). Commands on long streams (an organization
// with years of team changes, a contract whose watchers come and go) would
// otherwise decode the whole stream each time; folds keeps the last state
// each replica built and reads only the events appended since.
//
// What it holds never outlives a forgotten person: the read of the new
// events also checks, in the same round trip, that none of the data keys
// the cached state was opened with is destroyed, and a state that holds a
// forgotten person's data is dropped and rebuilt from the stream's start.
type folds struct {
	mu      sync.Mutex
	entries map[string]foldEntry
}

type foldEntry struct {
	state    any // never handed out: callers get a clone
	version  int
	position int64
	keys     []uuid.UUID
}

// foldLimit bounds the states one replica keeps. Past it the cache starts
// again empty, which costs one full read per stream.
const foldLimit = 20_000

func (f *folds) get(key string) (foldEntry, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[key]
	return e, ok
}

func (f *folds) put(key string, e foldEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.entries == nil || len(f.entries) >= foldLimit {
		f.entries = make(map[string]foldEntry)
	}
	if old, ok := f.entries[key]; ok && old.version > e.version {
		return // a concurrent load already cached a newer state
	}
	f.entries[key] = e
}

// foldSpec says how to build one kind of fold.
type foldSpec[S any] struct {
	kind  string // folds of one stream by different handlers are kept apart
	empty func() S
	apply func(S, eventstore.Event)
	clone func(S) S
}

// aggregateFold is the fold of an aggregate that is all of its state and
// shares nothing when copied.
func aggregateFold[T any, P interface {
	*T
	Apply(domain.Event)
}](kind string) foldSpec[P] {
	return foldSpec[P]{
		kind:  kind,
		empty: func() P { return new(T) },
		apply: func(p P, e eventstore.Event) { p.Apply(e.Data) },
		clone: func(p P) P { c := *p; return &c },
	}
}

// loaded is a fold as a command read it: the state, the caller's own to
// change, and where its stream stood.
type loaded[S any] struct {
	spec     foldSpec[S]
	stream   stream
	state    S
	version  int
	position int64 // of the stream's last event; 0 when there is none
}

// load rebuilds the fold of s.
func (spec foldSpec[S]) load(ctx context.Context, a *App, s stream) (loaded[S], error) {
	key := spec.kind + "\x00" + s.id
	state, after, position, known := spec.empty(), 0, int64(0), []uuid.UUID(nil)
	if e, ok := a.folds.get(key); ok {
		state, after, position, known = spec.clone(e.state.(S)), e.version, e.position, e.keys
	}
	tail, err := a.Store.ReadStreamAfter(ctx, s.id, after, known)
	if err == nil && tail.Stale {
		state, after, position, known = spec.empty(), 0, 0, nil
		tail, err = a.Store.ReadStreamAfter(ctx, s.id, 0, nil)
	}
	if err != nil {
		return loaded[S]{}, err
	}
	for _, e := range tail.Events {
		spec.apply(state, e)
		position = e.Position
	}
	if len(tail.Events) > 0 {
		a.folds.put(key, foldEntry{state: spec.clone(state), version: tail.Version, position: position, keys: union(known, tail.Keys)})
	}
	return loaded[S]{spec: spec, stream: s, state: state, version: tail.Version, position: position}, nil
}

// union is a followed by the ids of b it lacks.
func union(a, b []uuid.UUID) []uuid.UUID {
	out := append(make([]uuid.UUID, 0, len(a)+len(b)), a...)
	for _, id := range b {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
