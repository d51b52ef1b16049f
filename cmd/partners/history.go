package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"partners/projections"
)

// openForReadModels is the start both commands over the read models
// (rebuild, verify) share: their -projection flag, the service, and every
// read model's checkpoint row in place. name is "" for all. The caller
// closes the pool.
func openForReadModels(ctx context.Context, cfg Config, command string, args []string, stderr io.Writer) (*services, string, error) {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("projection", "", "the read model to "+command+" (default: all)")
	if err := fs.Parse(args); err != nil {
		return nil, "", err
	}
	svc, err := open(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return nil, "", err
	}
	if err := projections.EnsureCheckpoints(ctx, svc.pool, svc.projector.Projections()); err != nil {
		svc.pool.Close()
		return nil, "", err
	}
	return svc, *name, nil
}

// rebuild rebuilds read models beside the live ones, with a progress bar
// (events per second and time left), and swaps each when caught up. A
// running `partners serve` keeps serving meanwhile.
func rebuild(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	svc, name, err := openForReadModels(ctx, cfg, "rebuild", args, stderr)
	if err != nil {
		return err
	}
	defer svc.pool.Close()
	names := []string{name}
	if name == "" {
		names = names[:0]
		for _, p := range svc.projector.Projections() {
			names = append(names, p.Name())
		}
	}
	for _, n := range names {
		if err := svc.projector.StartRebuild(ctx, n); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	// Every read model asked for fills in one pass over the events.
	label := names[0]
	if len(names) > 1 {
		label = fmt.Sprintf("%d read models", len(names))
	}
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond))
	err = svc.projector.RunRebuilds(ctx, names, func(p projections.Progress) {
		bar.ChangeMax64(p.Total)
		_ = bar.Set64(p.Applied)
	})
	_ = bar.Finish()
	fmt.Fprintln(stderr)
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	for _, n := range names {
		fmt.Fprintf(stdout, "%s rebuilt and swapped in\n", n)
	}
	return nil
}

// errDifferences makes verify exit non-zero.
var errDifferences = errors.New("read models differ from a replay of the events")

// verify replays every event into scratch tables and compares them with
// the live read models, printing each difference.
func verify(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	svc, name, err := openForReadModels(ctx, cfg, "verify", args, stderr)
	if err != nil {
		return err
	}
	defer svc.pool.Close()
	var names []string
	if name != "" {
		names = []string{name}
	}
	label := "every read model"
	if name != "" {
		label = name
	}
	// Every read model fills in one pass: one progress line.
	diffs, err := svc.projector.Verify(ctx, names, func(p projections.Progress) {
		fmt.Fprintf(stderr, "\r%-24s %d/%d events, %.0f events/s", label, p.Applied, p.Total, p.Rate)
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	for _, d := range diffs {
		fmt.Fprintln(stdout, d.String())
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: %d difference(s)", errDifferences, len(diffs))
	}
	fmt.Fprintln(stdout, "every read model matches a replay of the events")
	return nil
}
