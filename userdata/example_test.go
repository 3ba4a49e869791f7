package userdata_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log"
	"time"

	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/sim/userapi"
	"github.com/marketwire/marketwire/userdata"
)

// userFixture returns the example user event of a market by file name.
func userFixture(market, name string) []byte {
	for _, f := range generated.UserFixtures(market) {
		if f.Name == name {
			return f.Data
		}
	}
	log.Fatalf("no user fixture %s/%s", market, name)
	return nil
}

// Open delivers an account's events typed. Here the exchange is
// marketwire's simulator of the account side (sim/userapi), which knows
// one demo account and pushes an example order update to it.
func ExampleOpen() {
	const key, secret = "demo-api-key", "demo-api-secret" // from the environment in a real program
	srv, err := userapi.New("usdm", []userapi.Account{{APIKey: key, Secret: secret}})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	orders := make(chan *usdm.OrderTradeUpdateEvent, 10)
	st, err := userdata.Open(ctx, &usdm.Market, userdata.NewHMAC(key, secret), func(p markets.Payload) {
		if ev, ok := p.(*usdm.OrderTradeUpdateEvent); ok {
			orders <- ev
		}
	},
		// Without these options Open uses the exchange's endpoints.
		userdata.WithRESTURL(srv.URL()), userdata.WithStreamURL(srv.StreamURL()))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	srv.Push(key, userFixture("usdm", "order_trade_update"))
	o := (<-orders).Order
	fmt.Println(o.Symbol, o.Side, o.OrderType, o.ExecutionType, o.OrderStatus)
	// Output: BTCUSDT SELL TRAILING_STOP_MARKET NEW NEW
}

// Spot's user data comes over the WebSocket API, with a signed request; an
// Ed25519 key logs the session on once.
func ExampleOpen_spot() {
	const key = "demo-ed25519-api-key"
	priv := ed25519.NewKeyFromSeed([]byte("marketwire userdata example key!"))
	srv, err := userapi.New("spot", []userapi.Account{{APIKey: key, PublicKey: priv.Public()}})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := make(chan markets.Payload, 10)
	creds := userdata.NewEd25519(key, priv)
	fmt.Println(creds) // credentials never print their secret
	st, err := userdata.Open(ctx, &spot.Market, creds, func(p markets.Payload) { events <- p },
		userdata.WithWSAPIURL(srv.WSAPIURL()))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	srv.Push(key, userFixture("spot", "balance_update"))
	fmt.Printf("%T\n", <-events)
	// Output:
	// Ed25519 key demo…key
	// *spot.BalanceUpdateEvent
}
