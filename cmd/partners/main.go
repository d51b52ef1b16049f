// Command partners runs the partner-network service and its operator
// commands. It only wires packages together and reads configuration; it must
// never hold business rules.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"partners/api"
	"partners/integration"
)

const usage = `partners: the partner network service

Usage:
  partners serve                 run the HTTP API and the projections (creates and migrates the database)
  partners migrate               create the database if missing and apply migrations
  partners token --sub ID --email E [--name N] [--admin] [--ttl 24h]
                                 print a signed development JWT for the configured secret
  partners forget EMAIL          forget a person: destroy their keys, keep the history
  partners rebuild [--projection NAME]
                                 rebuild read models from the events beside the live ones, then swap
  partners verify [--projection NAME]
                                 compare the live read models with a fresh replay; non-zero exit on a difference
  partners openapi               print the OpenAPI document the server serves at /openapi.json
  partners asyncapi              print the AsyncAPI document of the NATS events, served at /asyncapi.json

Configuration comes from PARTNERS_* environment variables (see README.md).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "partners:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a subcommand is required")
	}
	if args[0] == "openapi" { // needs no configuration: the document is the code's
		_, err := stdout.Write(api.OpenAPI())
		return err
	}
	if args[0] == "asyncapi" {
		_, err := stdout.Write(integration.AsyncAPI())
		return err
	}
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, stderr)
	case "migrate":
		return migrate(ctx, cfg, stdout)
	case "token":
		return token(cfg, args[1:], stdout, stderr)
	case "rebuild":
		return rebuild(ctx, cfg, args[1:], stdout, stderr)
	case "verify":
		return verify(ctx, cfg, args[1:], stdout, stderr)
	case "forget":
		return forget(ctx, cfg, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
}
