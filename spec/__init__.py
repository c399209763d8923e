"""Models checked by tim3check. ``spec.tim3`` is the shipped TIM3 model."""
