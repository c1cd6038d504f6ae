using FlashSale.Engine;
using FlashSale.Ingress.Campaigns;
using FlashSale.Ingress.Infrastructure;
using FlashSale.Ingress.Reservations;

var builder = WebApplication.CreateBuilder(args);

builder.AddFlashSaleEngine();
builder.AddIngressHttp();
builder.AddIngressAuth();
builder.AddIngressOperations();

var app = builder.Build();

await app.Services.MigrateCatalogAsync();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapIngressOperations();
app.MapCampaignAdminApi();
app.MapCampaignsApi();
app.MapReservationsApi();

await app.RunAsync();

/// <summary>The entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
