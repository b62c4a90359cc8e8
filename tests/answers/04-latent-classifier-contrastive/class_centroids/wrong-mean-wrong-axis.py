# wrong: averages each code over its features (dim=1) instead of over the examples of the class
def class_centroids(z: torch.Tensor, y: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """The mean of the rows of z for each label 0..num_classes-1; NaN rows for labels absent from y."""
    ### BEGIN SOLUTION
    return torch.stack([z[y == c].mean(dim=1).mean()[None].expand(z.shape[1]) for c in range(num_classes)])
    ### END SOLUTION
