// Package browsertest loads pages in a real headless Chromium (driven over
// the DevTools protocol with chromedp) for tests: at desktop and phone
// width it checks that the page logs no console error or exception and
// that nothing is cut off horizontally, and keeps a screenshot of each.
//
// Chromium is found through $CHROMIUM_PATH or the names chromium,
// chromium-browser, google-chrome on $PATH. When it is missing, Start
// skips the test with a message saying how to install it, except when
// CI=true: then the test fails (.ci/run installs the Debian package
// chromium). Screenshots go to $SECONDME_BRIDGE_SCREENSHOTS, or else to
// .ci/artifacts/screenshots under the module root (gitignored).
//
// Only tests import this package, so chromedp is not linked into the
// binary.
package browsertest
