"""The baselines the function is measured against, each as small as its pattern allows."""
