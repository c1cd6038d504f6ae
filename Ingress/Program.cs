using FlashSale.Engine;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Live;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Relay;
using FlashSale.Engine.Reservations;
using FlashSale.Engine.Storage;
using FlashSale.Ingress.Campaigns;
using FlashSale.Ingress.Console;
using FlashSale.Ingress.Infrastructure;
using FlashSale.Ingress.Orders;
using FlashSale.Ingress.Payments;
using FlashSale.Ingress.Reservations;

var builder = WebApplication.CreateBuilder(args);

builder.AddFlashSaleTokens();
builder.AddCampaigns();
builder.AddReservations();
builder.AddRelay();
builder.AddOrderQueries();
builder.AddLifecycle();
builder.AddReconciliation();
builder.AddIngressHttp();
builder.AddIngressAuth();
builder.AddIngressOperations();
builder.AddPayments();
builder.AddLiveView();

var app = builder.Build();

await app.Services.MigrateCatalogAsync();
await app.Services.MigrateShardsAsync();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseConsolePage();
app.UseAuthentication();
app.UseAuthorization();

app.MapIngressOperations();
app.MapCampaignAdminApi();
app.MapCampaignsApi();
app.MapReservationsApi();
app.MapOrdersApi();
app.MapPaymentsApi();
app.MapPaymentsAdminApi();
app.MapConsole();

await app.RunAsync();

/// <summary>The entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
