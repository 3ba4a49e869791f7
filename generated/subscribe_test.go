package generated_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/zdex"
	"github.com/marketwire/marketwire/runtime"
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

// TestStreamDecoders decodes every stream fixture with the stream's
// runtime.StreamDecoder, into a new value and then again into that value,
// and compares both with its plain Decode.
func TestStreamDecoders(t *testing.T) {
	for _, f := range loadFixtures(t) {
		if f.Decoder != "" {
			continue
		}
		t.Run(f.path, func(t *testing.T) {
			p, err := markets.All[f.market].ParseStream(f.Stream)
			if err != nil {
				t.Fatal(err)
			}
			st := p.(interface{ Stream() runtime.Stream }).Stream()
			if st.Whole {
				t.Skip("decoded whole, by its dispatch group")
			}
			want, err := st.Decode(f.Data)
			if err != nil {
				t.Fatal(err)
			}
			if st.NewDecoder == nil {
				t.Fatal("no NewDecoder")
			}
			dec := st.NewDecoder()
			v, err := dec.Decode(f.Data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, v, cmp.Comparer(decimalEqual)); diff != "" {
				t.Errorf("new value (-Decode +StreamDecoder):\n%s", diff)
			}
			again, err := dec.Decode(f.Data, v)
			if err != nil {
				t.Fatal(err)
			}
			if again != v {
				t.Errorf("decoding into a value returned a different one")
			}
			if diff := cmp.Diff(want, again, cmp.Comparer(decimalEqual)); diff != "" {
				t.Errorf("reused value (-Decode +StreamDecoder):\n%s", diff)
			}
		})
	}
}
