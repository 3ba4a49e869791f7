package main

import (
	"context"
	"errors"
	"io"

	"github.com/marketwire/marketwire/cmd/internal/simcmd"
)

// simCmd runs the simulator of a market, as mwsim does.
func simCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	err := simcmd.Run(ctx, "marketwire sim", args, stderr)
	var usage *simcmd.UsageError
	if errors.As(err, &usage) {
		return badInput{usage.Err}
	}
	return err
}
