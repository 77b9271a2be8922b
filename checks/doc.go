// Package checks owns what a credential check is and does: credential types,
// HTTP probes, hygiene and environment guards, and the diagnosis that turns
// a response into a cause, a detail sentence and a fix.
package checks
