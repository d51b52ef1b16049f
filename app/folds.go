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
// A command that decides on a cached state without reading (loadFor) has
// its append make the same check (eventstore.ErrStateStale).
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

func (f *folds) drop(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.entries, key)
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
	// base is the fold at version as the cache holds it (never changed:
	// state is its clone), and keys the data keys it was opened with.
	base S
	keys []uuid.UUID
}

func (spec foldSpec[S]) key(s stream) string { return spec.kind + "\x00" + s.id }

// load rebuilds the fold of s, reading what its stream holds after the
// cached state (and, in the same round trip, whether a person that state
// holds was forgotten since).
func (spec foldSpec[S]) load(ctx context.Context, a *App, s stream) (loaded[S], error) {
	key := spec.key(s)
	base, after, position, known := spec.empty(), 0, int64(0), []uuid.UUID(nil)
	if e, ok := a.folds.get(key); ok {
		base, after, position, known = e.state.(S), e.version, e.position, e.keys
	}
	tail, err := a.Store.ReadStreamAfter(ctx, s.id, after, known)
	if err == nil && tail.Stale {
		a.folds.drop(key)
		base, after, position, known = spec.empty(), 0, 0, nil
		tail, err = a.Store.ReadStreamAfter(ctx, s.id, 0, nil)
	}
	if err != nil {
		return loaded[S]{}, err
	}
	keys := union(known, tail.Keys)
	if len(tail.Events) > 0 {
		st := spec.clone(base)
		for _, e := range tail.Events {
			spec.apply(st, e)
			position = e.Position
		}
		base = st
		a.folds.put(key, foldEntry{state: base, version: tail.Version, position: position, keys: keys})
	}
	return loaded[S]{spec: spec, stream: s, state: spec.clone(base), version: tail.Version, position: position, base: base, keys: keys}, nil
}

// loadFor is load for a command's attempt. On the first attempt a fold
// this replica caches is used as it is, unverified: nothing is read, and
// the attempt's append asserts, in its own round trip, that the stream is
// still at that version and that no key the state was opened with is
// destroyed (see attempt.assertions); a decision that refuses or appends
// nothing is made again on read state (see run). Either way, once the
// attempt's batch is stored, the cache holds the fold after it.
func (spec foldSpec[S]) loadFor(ctx context.Context, t *attempt, s stream) (loaded[S], error) {
	var l loaded[S]
	if e, ok := t.a.folds.get(spec.key(s)); ok && t.optimistic {
		base := e.state.(S)
		l = loaded[S]{spec: spec, stream: s, state: spec.clone(base), version: e.version, position: e.position, base: base, keys: e.keys}
		t.unverified = append(t.unverified, unverified{key: spec.key(s), stream: s.id, version: e.version, keys: e.keys})
	} else {
		var err error
		if l, err = spec.load(ctx, t.a, s); err != nil {
			return l, err
		}
	}
	t.written = append(t.written, l.writeThrough)
	return l, nil
}

// writeThrough caches the fold after a stored batch that appended to its
// stream at the version it was loaded at: its base with the stored events
// applied as a read returns them, opened with its keys and the ones the
// append sealed with.
func (l loaded[S]) writeThrough(a *App, b eventstore.Batch, res eventstore.Result) {
	i := slices.IndexFunc(b.Streams, func(sa eventstore.StreamAppend) bool { return sa.StreamID == l.stream.id && len(sa.Events) > 0 })
	if i < 0 || b.Streams[i].Expected != eventstore.Exactly(l.version) {
		return
	}
	st, version, position, n := l.spec.clone(l.base), l.version, l.position, 0
	for _, e := range res.Events {
		if e.StreamID == l.stream.id {
			l.spec.apply(st, e)
			version, position = e.StreamVersion, e.Position
			n++
		}
	}
	if n == 0 || n != len(b.Streams[i].Events) || version != l.version+n {
		return // a duplicate, or not echoed: the next load reads
	}
	a.folds.put(l.spec.key(l.stream), foldEntry{state: st, version: version, position: position, keys: union(l.keys, res.Keys)})
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
