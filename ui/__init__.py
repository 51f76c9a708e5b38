"""The app's tabs, one module each: its help text, its layout (`build`) and its handlers."""
