package orderbook

import "context"

// FetchSnapshot fetches one snapshot through f and returns its update id.
func FetchSnapshot(ctx context.Context, f *Fetcher, symbol string, limit int) (int64, error) {
	s, err := f.fetch(ctx, symbol, limit)
	if err != nil {
		return 0, err
	}
	return s.id, nil
}
