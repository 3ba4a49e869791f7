package generated_test

import (
	"context"
	"testing"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/zdex"
)

// TestNilHandler: a nil handler is refused before anything else (here
// before the nil connection is touched), not left to panic later on the
// subscription's goroutine.
func TestNilHandler(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{second(spot.SubscribeAggTrade(ctx, nil, spot.AggTradeParams{Symbol: "BTCUSDT"}, nil)), "spot: SubscribeAggTrade: nil handler"},
		{second(spot.SubscribeAggTrade(ctx, nil, spot.AggTradeParams{}, nil)), "spot: SubscribeAggTrade: nil handler"},
		{second(spot.Subscribe(ctx, nil, spot.TradeParams{Symbol: "BTCUSDT"}, nil)), "spot: Subscribe: nil handler"},
		{second(zdex.SubscribeAccount(ctx, nil, zdex.AccountParams{}, nil)), "zdex: SubscribeAccount: nil handler"},
	} {
		if tc.err == nil || tc.err.Error() != tc.want {
			t.Errorf("got %v, want %s", tc.err, tc.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }
