// Package layers holds no code: its test keeps the project's imports pointing one way,
// as the README's architecture map draws them.
package layers
