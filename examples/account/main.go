// Command account prints the typed user-data (account) events of one market
// until it is interrupted (Ctrl-C or SIGTERM) or for the duration -for
// gives.
//
//	go run ./examples/account                  # USDⓈ-M, against the embedded simulator
//	go run ./examples/account -market spot     # spot, over the simulated WebSocket API
//	go run ./examples/account -live            # the real exchange, see below
//
// Against the simulator it pushes every example user event of the market in
// a loop and, halfway through, expires the listen key (or terminates the
// spot subscription) to show the recovery and the gap it reports.
//
// With -live it reads the key from the environment, never from flags, and
// never prints it: BINANCE_API_KEY, plus BINANCE_API_SECRET for an HMAC key
// or BINANCE_PRIVATE_KEY_FILE (a PEM file) for an Ed25519 or RSA key.
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/marketwire/marketwire/generated/coinm"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/generated/options"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/sim/userapi"
	"github.com/marketwire/marketwire/userdata"
	"github.com/marketwire/marketwire/wire"
)

var (
	market   = flag.String("market", "usdm", "market: spot, usdm, coinm or options")
	live     = flag.Bool("live", false, "connect to the real exchange with the key from the environment")
	endpoint = flag.String("endpoint", "", "with -live, the market's endpoint name, e.g. testnet")
	runFor   = flag.Duration("for", 0, "how long to run, e.g. 30s; 0 runs until interrupted (Ctrl-C or SIGTERM)")
	every    = flag.Duration("every", 200*time.Millisecond, "simulator: how often to push an event")
)

func main() {
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	m, ok := markets.All[*market]
	if !ok || m.Info.UserStream == nil {
		log.Fatalf("unknown market %q", *market)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
	opts := []userdata.Option{userdata.OnEvent(func(e userdata.Event) { log.Println("userdata:", e) })}
	var (
		creds userdata.Credentials
		err   error
		sim   *simulation
	)
	if *live {
		creds, err = fromEnv()
		if err != nil {
			log.Fatal(err)
		}
		if *endpoint != "" {
			opts = append(opts, userdata.WithEndpoint(*endpoint))
		}
	} else {
		sim, err = startSimulation(*market)
		if err != nil {
			log.Fatal(err)
		}
		defer sim.srv.Close()
		creds = sim.creds
		opts = append(opts, sim.options()...)
	}
	log.Printf("opening the %s user stream with %s", *market, creds)
	st, err := userdata.Open(ctx, m.Info, creds, print, opts...)
	if err != nil {
		log.Fatal(err)
	}
	if sim != nil {
		go sim.run(ctx)
	}
	<-ctx.Done()
	st.Close()
	why := fmt.Sprintf("after -for %v", *runFor)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = "interrupted"
	}
	log.Printf("stopped (%s); user stream closed", why)
}

// print prints one typed event.
func print(p markets.Payload) {
	switch ev := p.(type) {
	case *usdm.OrderTradeUpdateEvent:
		o := ev.Order
		fmt.Printf("usdm order   %-10s %-4s %-6s %s @ %s  %s/%s\n", o.Symbol, o.Side, o.OrderType, o.OriginalQuantity, o.OriginalPrice, o.ExecutionType, o.OrderStatus)
	case *usdm.AccountUpdateEvent:
		fmt.Printf("usdm account reason=%s balances=%d positions=%d\n", ev.Update.Reason, len(ev.Update.Balances), len(ev.Update.Positions))
	case *coinm.OrderTradeUpdateEvent:
		o := ev.Order
		fmt.Printf("coinm order  %-14s %-4s %s @ %s  %s/%s\n", o.Symbol, o.Side, o.OriginalQuantity, o.OriginalPrice, o.ExecutionType, o.OrderStatus)
	case *options.GreekUpdateEvent:
		for _, g := range ev.Greeks {
			fmt.Printf("options greeks %s delta=%s gamma=%s theta=%s vega=%s\n", g.Underlying, g.Delta, g.Gamma, g.Theta, g.Vega)
		}
	case *spot.ExecutionReportEvent:
		fmt.Printf("spot order   %-8s %-4s %-6s %s @ %s  %s/%s\n", ev.Symbol, ev.Side, ev.OrderType, ev.Quantity, ev.Price, ev.ExecutionType, ev.OrderStatus)
	case *spot.OutboundAccountPositionEvent:
		for _, b := range ev.Balances {
			fmt.Printf("spot balance %-6s free=%s locked=%s\n", b.Asset, b.Free, b.Locked)
		}
	// listenKeyExpired names the expired key: print only its short form.
	case *usdm.ListenKeyExpiredEvent:
		fmt.Printf("usdm listen key %s expired\n", userdata.Redact(ev.ListenKey))
	case *coinm.ListenKeyExpiredEvent:
		fmt.Printf("coinm listen key %s expired\n", userdata.Redact(ev.ListenKey))
	case *options.ListenKeyExpiredEvent:
		fmt.Printf("options listen key %s expired\n", userdata.Redact(ev.ListenKey))
	case *spot.ListenKeyExpiredEvent:
		fmt.Printf("spot listen key %s expired\n", userdata.Redact(ev.ListenKey))
	case *wire.UnknownEvent:
		fmt.Printf("unknown event kind %q: %s\n", ev.Kind, ev.Raw)
	default:
		b, _ := p.MarshalJSON()
		fmt.Printf("%-40T %s\n", p, b)
	}
}

// fromEnv reads the key from the environment.
func fromEnv() (userdata.Credentials, error) {
	key := os.Getenv("BINANCE_API_KEY")
	if key == "" {
		return userdata.Credentials{}, errors.New("set BINANCE_API_KEY, and BINANCE_API_SECRET or BINANCE_PRIVATE_KEY_FILE")
	}
	if path := os.Getenv("BINANCE_PRIVATE_KEY_FILE"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return userdata.Credentials{}, err
		}
		return userdata.ParsePEM(key, pem)
	}
	sec := os.Getenv("BINANCE_API_SECRET")
	if sec == "" {
		return userdata.Credentials{}, errors.New("set BINANCE_API_SECRET (HMAC key) or BINANCE_PRIVATE_KEY_FILE (Ed25519 or RSA key)")
	}
	return userdata.NewHMAC(key, sec), nil
}

// simulation is the embedded exchange with one demo account.
type simulation struct {
	market string
	srv    *userapi.Server
	creds  userdata.Credentials
	apiKey string
}

func startSimulation(market string) (*simulation, error) {
	const apiKey = "DEMOdemoDEMOdemoDEMOdemoDEMOdemoDEMOdemoDEMOdemoDEMOdemoDEMOdemo"
	// A fixed demo key pair: the simulator checks real signatures.
	ed := ed25519.NewKeyFromSeed([]byte("marketwire examples/account demo"))
	srv, err := userapi.New(market, []userapi.Account{{APIKey: apiKey, PublicKey: ed.Public()}})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	log.Printf("embedded %s simulator at %s (use -live for the real exchange)", market, srv.URL())
	return &simulation{market: market, srv: srv, creds: userdata.NewEd25519(apiKey, ed), apiKey: apiKey}, nil
}

func (s *simulation) options() []userdata.Option {
	return []userdata.Option{
		userdata.WithRESTURL(s.srv.URL()),
		userdata.WithStreamURL(s.srv.StreamURL()),
		userdata.WithWSAPIURL(s.srv.WSAPIURL()),
	}
}

// run pushes the market's example events in a loop, and once expires the
// listen key (terminates the spot subscription) to show the recovery.
func (s *simulation) run(ctx context.Context) {
	fixtures := userapi.PushableFixtures(s.market)
	t := time.NewTicker(*every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if i == 10 {
			if s.market == "spot" {
				s.srv.Terminate(s.apiKey)
			} else {
				s.srv.Expire(s.apiKey)
			}
			continue
		}
		s.srv.Push(s.apiKey, fixtures[i%len(fixtures)].Data)
	}
}
