package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"partners/app"
	"partners/domain"
)

// forget erases a person from the command line, as the admin endpoint does.
// The operator is recorded as the actor "cli".
func forget(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: partners forget EMAIL")
	}
	email, err := domain.ParseEmail(args[0])
	if err != nil {
		return fmt.Errorf("forget: %w", err)
	}
	log := newLogger(cfg, stderr)
	svc, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.pool.Close()
	f, err := svc.app.ForgetPerson(app.WithRequestInfo(ctx, app.RequestInfo{RequestID: "cli"}), domain.Actor{UserID: "cli"}, email)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "forgotten: person %s, %d key(s) destroyed, event at position %d\n", f.Ref, f.KeysDestroyed, f.Result.Position)
	if cfg.SMTPURL == "" {
		// Without SMTP, emails were written to the mail folder: delete theirs.
		if n, err := notifyFiles(ctx, svc, cfg, f.Ref); err != nil {
			return err
		} else if n > 0 {
			fmt.Fprintf(stdout, "%d mail file(s) deleted from %s\n", n, cfg.MailDir)
		}
	}
	return nil
}
