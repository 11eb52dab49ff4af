package bridge

import "github.com/secondme-bridge/secondme-bridge/bridge/render"

// newObserved is New with an Observer of the renderer's timings: a hook
// for tests and benchmarks only, kept out of the production Config.
func newObserved(cfg Config, obs render.Observer) (*Bridge, error) {
	b, err := New(cfg)
	if err != nil {
		return nil, err
	}
	b.obs = obs
	return b, nil
}
