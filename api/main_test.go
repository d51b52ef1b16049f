package api_test

import (
	"io"
	"log/slog"
	"testing"

	"partners/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
